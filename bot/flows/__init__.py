"""The conversation flows, one module each; `router.route` picks the flow for a turn."""
