// The TypeScript anchor of bench/: TypeScript fastmcp with three tools (echo, add, get_time),
// over Streamable HTTP (stateful sessions, fastmcp's default) or stdio.
//
//   node server.mjs --port 8003      # http://127.0.0.1:8003/mcp
//   node server.mjs --stdio
//
// bench/fastmcp_target.py writes nothing here: this file and package.json are the pinned
// server, `npm ci` installs fastmcp into ./node_modules (git-ignored).
import { FastMCP } from "fastmcp";
import { z } from "zod";

const server = new FastMCP({ name: "fastmcp-bench", version: "1.0.0" });

server.addTool({
  name: "echo",
  description: "Return the message unchanged.",
  parameters: z.object({ message: z.string() }),
  annotations: { readOnlyHint: true },
  execute: async ({ message }) => message,
});

server.addTool({
  name: "add",
  description: "Add two numbers.",
  parameters: z.object({ a: z.number(), b: z.number() }),
  annotations: { readOnlyHint: true },
  execute: async ({ a, b }) => String(a + b),
});

server.addTool({
  name: "get_time",
  description: "Current time in UTC, ISO 8601.",
  parameters: z.object({}),
  annotations: { readOnlyHint: true },
  execute: async () => new Date().toISOString(),
});

const args = process.argv.slice(2);
if (args.includes("--stdio")) {
  await server.start({ transportType: "stdio" });
} else {
  const port = Number(args[args.indexOf("--port") + 1]);
  const host = args.includes("--host") ? args[args.indexOf("--host") + 1] : "127.0.0.1";
  await server.start({ transportType: "httpStream", httpStream: { port, host, endpoint: "/mcp" } });
}
