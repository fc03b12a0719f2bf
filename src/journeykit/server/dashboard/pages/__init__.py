"""One module per dashboard page; each has ``render(ctx) -> str`` (the page body)."""
