"""The regional portal: pages rendered on the server from the gateway's public API."""
