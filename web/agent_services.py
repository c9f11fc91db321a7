"""The agent use cases as seen from a request, for the pages and the API alike."""

from __future__ import annotations

from aiohttp import web

from handlers.agent_actions import AgentActions
from handlers.logged_calls import LoggedCalls
from web.keys import nlu_key, sessions_key


def agent_actions(request: web.Request) -> AgentActions:
    """The use cases bound to the app's session factory (status changes keep the clocks in line)."""
    return AgentActions(request.config_dict[sessions_key])


def logged_calls(request: web.Request) -> LoggedCalls:
    """The logged-call use cases with the app's NLU (the one the doors use); 503 while it is not set up."""
    nlu = request.config_dict.get(nlu_key)
    if nlu is None:
        raise web.HTTPServiceUnavailable(text="L'analyse des messages n'est pas disponible : réessayez dans un instant.")
    return LoggedCalls(request.config_dict[sessions_key], nlu)
