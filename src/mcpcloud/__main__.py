from mcpcloud.cli import main

main()
