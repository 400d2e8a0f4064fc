"""The UI-free core shared by the CLI and the TUI. Nothing here imports textual or rich."""
