"""The domain's vocabulary and formats (DOMAIN.md): imported by every package, imports none of them."""
