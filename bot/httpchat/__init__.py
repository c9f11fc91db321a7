"""HTTP chat: the teachers' dialogue over plain request/response, for pages that cannot keep a
websocket open (a school proxy that strips the upgrade, a widget in the ENT portal).

- `POST /chat/api/messages` with `{"session"?, "id"?, "text" | "button" | "start", "asset"?}`
  answers `{"session", "replies": [frame, ...]}`. Without a (well-formed) session, a new one
  is opened and greeted first. `id` makes a retry idempotent: the same id gets the same
  answers again, never a second turn.
- `GET /chat/api/messages?session=…` answers `{"session", "messages": [frame, ...]}`: the
  notices that waited for the session (an agent's reply, a resolution), each once it was
  written to the client; a turn's answers whose response was lost come back here too.

Frames are the web chat's (`{"text", "buttons", "links"}`) plus `"id"`, the outbox row, for
the client to drop a frame it already showed. A malformed body gets a 400 with a French
`text`, never a 500. The channel has no outbox sender: its rows wait for the client's poll.
"""

from bot.httpchat.adapter import HttpChat, Request, parse_request

__all__ = ["HttpChat", "Request", "parse_request"]
