"""The agent use cases as seen from a request, for the pages and the API alike."""

from __future__ import annotations

from aiohttp import web

from handlers.agent_actions import AgentActions, StatusHook, no_status_hook
from web.app import services_key, sessions_key

#: Name under which the SLA package registers its `on_status_change(session, ticket)` hook
#: in `app[services_key]`; looked up per request, so the order of the extensions does not matter.
STATUS_HOOK = "on_status_change"


def agent_actions(request: web.Request) -> AgentActions:
    """The use cases bound to the app's session factory and SLA hook."""
    hook: StatusHook = request.config_dict[services_key].get(STATUS_HOOK) or no_status_hook
    return AgentActions(request.config_dict[sessions_key], on_status_change=hook)
