"""The channels plugged into the application: their start-up, their loops, their webhooks."""
