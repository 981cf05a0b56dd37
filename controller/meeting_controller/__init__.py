"""Meeting Controller."""
