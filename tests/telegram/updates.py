"""Raw Telegram updates as the Bot API delivers them, for webhook and polling tests."""

from __future__ import annotations

import itertools
import time
from typing import Any

_message_ids = itertools.count(1)


def user(user_id: int, first_name: str = "Claire", last_name: str = "Martin") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "last_name": last_name,
            "language_code": "fr"}


def private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Claire", "last_name": "Martin"}


def message(user_id: int, *, chat: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
    return {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat or private_chat(user_id),
        "from": user(user_id),
        **content,
    }


def text_update(update_id: int, user_id: int, text: str, **extra: Any) -> dict[str, Any]:
    entities = []
    if text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    return {"update_id": update_id, "message": message(user_id, **content, **extra)}


def edited_update(update_id: int, original: dict[str, Any], new_text: str) -> dict[str, Any]:
    edited = dict(original["message"], text=new_text, edit_date=int(time.time()) + 5)
    return {"update_id": update_id, "edited_message": edited}


def callback_update(update_id: int, user_id: int, data: str | None, *, message_id: int = 1) -> dict[str, Any]:
    query: dict[str, Any] = {
        "id": f"cb{update_id}",
        "from": user(user_id),
        "chat_instance": f"ci{user_id}",
        "message": {
            "message_id": message_id, "date": int(time.time()), "chat": private_chat(user_id),
            "text": "…",
        },
    }
    if data is not None:
        query["data"] = data
    return {"update_id": update_id, "callback_query": query}


def photo_update(update_id: int, user_id: int, file_id: str, size: int, caption: str | None = None) -> dict[str, Any]:
    photo = [
        {"file_id": f"{file_id}-small", "file_unique_id": f"s{file_id}", "width": 90, "height": 60,
         "file_size": 1200},
        {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280, "height": 960,
         "file_size": size},
    ]
    content: dict[str, Any] = {"photo": photo}
    if caption:
        content["caption"] = caption
    return {"update_id": update_id, "message": message(user_id, **content)}


def document_update(update_id: int, user_id: int, file_id: str, size: int, name: str,
                    mime: str = "application/pdf") -> dict[str, Any]:
    document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                "mime_type": mime, "file_size": size}
    return {"update_id": update_id, "message": message(user_id, document=document)}


def sticker_update(update_id: int, user_id: int) -> dict[str, Any]:
    sticker = {"file_id": "stk", "file_unique_id": "ustk", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
    return {"update_id": update_id, "message": message(user_id, sticker=sticker)}


def voice_update(update_id: int, user_id: int) -> dict[str, Any]:
    voice = {"file_id": "vc", "file_unique_id": "uvc", "duration": 4, "mime_type": "audio/ogg"}
    return {"update_id": update_id, "message": message(user_id, voice=voice)}


def location_update(update_id: int, user_id: int) -> dict[str, Any]:
    return {"update_id": update_id,
            "message": message(user_id, location={"latitude": 45.43, "longitude": 4.39})}


def video_update(update_id: int, user_id: int) -> dict[str, Any]:
    video = {"file_id": "vd", "file_unique_id": "uvd", "width": 640, "height": 480, "duration": 9}
    return {"update_id": update_id, "message": message(user_id, video=video)}


def group_update(update_id: int, user_id: int, chat_id: int, text: str) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "supergroup", "title": "Salle des maîtres"}
    return {"update_id": update_id, "message": message(user_id, chat=chat, text=text)}


def blocked_update(update_id: int, user_id: int, status: str = "kicked") -> dict[str, Any]:
    now = int(time.time())
    return {"update_id": update_id, "my_chat_member": {
        "chat": private_chat(user_id), "from": user(user_id), "date": now,
        "old_chat_member": {"user": {"id": 7000001, "is_bot": True, "first_name": "Guichet"},
                            "status": "member"},
        "new_chat_member": {"user": {"id": 7000001, "is_bot": True, "first_name": "Guichet"},
                            "status": status, **({"until_date": 0} if status == "kicked" else {})},
    }}
