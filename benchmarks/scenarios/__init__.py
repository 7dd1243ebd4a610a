"""One module per scenario group; each exposes ``run(ctx) -> list[Row]`` functions."""
