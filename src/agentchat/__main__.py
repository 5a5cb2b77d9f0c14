from agentchat.cli import main

main()
