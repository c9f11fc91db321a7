"""The agent use cases as seen from a request, for the pages and the API alike."""

from __future__ import annotations

from aiohttp import web

from handlers.agent_actions import AgentActions
from web.keys import sessions_key


def agent_actions(request: web.Request) -> AgentActions:
    """The use cases bound to the app's session factory (status changes keep the clocks in line)."""
    return AgentActions(request.config_dict[sessions_key])
