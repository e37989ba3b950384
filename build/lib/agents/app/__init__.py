"""The app shell: the CLI, the HTTP API, the scheduler, database wiring and migrations.

It only wires the layers below; nothing imports it."""
