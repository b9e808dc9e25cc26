"""What tests share: a real server and its accounts, records, libraries, the agent, a browser, S3."""
