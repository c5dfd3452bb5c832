-- wrk cross-check for the Python generator: tools/call `echo` on the 2026-07-28 path,
-- byte-for-byte the request bench/scenarios.py sends (constant id; the path is stateless).
-- Prints one JSON line at the end so bench/run.py can read it.
local message = "hello, benchmark \226\156\147"

wrk.method = "POST"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "echo"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"'
    .. message .. '"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    .. '"io.modelcontextprotocol/clientInfo":{"name":"mcpcloud-bench","version":"1"},'
    .. '"io.modelcontextprotocol/clientCapabilities":{}}}}'

wrong = 0  -- global, so done() can read each thread's count with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  -- The server may escape the non-ASCII character (\u2713), so match the ASCII part of the echo.
  if status ~= 200 or not string.find(body, '"text":"hello, benchmark ', 1, true) then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local wrong_total = 0
  for _, thread in ipairs(threads) do
    wrong_total = wrong_total + thread:get("wrong")
  end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"wrong_responses":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    wrong_total))
end
