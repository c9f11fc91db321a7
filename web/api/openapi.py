"""The OpenAPI 3.1 description of /api/v1, written by hand and served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from domain.formats import REFERENCE_PATTERN
from domain.vocabulary import Equipment, Intent, TicketStatus
from handlers.logged_calls import CALL_INTENTS
from web import labels

_REF = {"name": "reference", "in": "path", "required": True,
        "schema": {"type": "string", "pattern": rf"^{REFERENCE_PATTERN}$"}, "description": "Référence de la demande (AAAA-NNNNN)"}
_PAGE = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
]


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


_ERRORS = {"401": _error("Jeton absent ou invalide"), "422": _error("Paramètres ou corps invalides")}
_NULL_STR = {"type": ["string", "null"]}
_NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
_ARTICLE = {"type": ["string", "null"], "maxLength": 120, "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
            "description": "Tutoriel à joindre : identifiant (slug) d'un article de /kb. Le message se termine "
                           "alors par « Tutoriel : titre — lien » et les messageries l'affichent en bouton. "
                           "Un identifiant inconnu répond 422."}


def _action(name: str, summary: str, body: str | None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"ticket_{name}", "summary": summary, "tags": ["demandes"],
        "parameters": [_REF],
        "responses": {
            "200": {"description": "Action effectuée",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ActionResult"}}}},
            "404": _error("Demande introuvable ou hors de votre périmètre"),
            "409": _error("Changement de statut impossible"), **_ERRORS,
        },
    }
    if body:
        op["requestBody"] = {"required": name != "resolve", "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
    return op


def openapi_document() -> dict[str, Any]:
    """The whole document; the enums come from the vocabulary, so they never drift."""
    ticket_props: dict[str, Any] = {
        "reference": {"type": "string"}, "subject": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in TicketStatus]}, "status_label": {"type": "string"},
        "intent": {"type": "string", "enum": [i.value for i in Intent]}, "intent_label": {"type": "string"},
        "equipment": {"type": ["string", "null"], "enum": [e.value for e in Equipment] + [None]},
        "quantity": {"type": "integer", "minimum": 1, "description": "devices of this kind the report names"},
        "organisation": {"type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                         "required": ["slug", "name"]},
        "school": {"oneOf": [{"$ref": "#/components/schemas/School"}, {"type": "null"}]},
        "assignee": {"oneOf": [{"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                               {"type": "null"}]},
        "channel": {"type": "string"}, "opened_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"}, "resolved_at": _NULL_TIME, "next_due": _NULL_TIME,
        "urgency": {"type": "string", "enum": ["breached", "at_risk", "on_time", "paused", "none"]},
        "urgency_label": {"type": "string"},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Guichet — API des agents", "version": "1.0.0",
                 "description": "Les demandes de l'organisation de l'agent porteur du jeton (tout le territoire pour "
                                "un administrateur). Une demande hors de ce périmètre répond 404. "
                                "Jeton : `guichet token create --agent E`."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/tickets": {"get": {
                "operationId": "list_tickets", "summary": "Demandes du périmètre, les plus urgentes d'abord",
                "tags": ["demandes"],
                "parameters": [
                    {"name": "statut", "in": "query", "description": "Statut, ou `all` ; par défaut les demandes ouvertes",
                     "schema": {"type": "string", "enum": [s.value for s in TicketStatus] + ["all"]}},
                    {"name": "categorie", "in": "query", "schema": {"type": "string", "enum": [i.value for i in Intent]}},
                    {"name": "commune", "in": "query", "schema": {"type": "integer"}, "description": "Identifiant de la commune"},
                    {"name": "ecole", "in": "query", "schema": {"type": "string"}, "description": "Code UAI de l'école"},
                    {"name": "materiel", "in": "query", "schema": {"type": "string", "enum": [e.value for e in Equipment]}},
                    {"name": "attribution", "in": "query", "schema": {"type": "string", "enum": ["me", "none"]}},
                    {"name": "q", "in": "query", "schema": {"type": "string"},
                     "description": "Recherche dans la référence, l'objet, la description et le nom de l'école"},
                    *_PAGE,
                    {"name": "after", "in": "query", "schema": {"type": "string"},
                     "description": "Curseur `next_after` de la page précédente : la page suivante, lue dans "
                                    "l'index (préférable à `page` pour parcourir toute la file)"},
                ],
                "responses": {"200": {"description": "Une page de demandes", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["items", "page", "per_page", "next_page", "counts"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}},
                        "page": {"type": "integer"}, "per_page": {"type": "integer"},
                        "next_page": {"type": ["integer", "null"]},
                        "next_after": {"type": ["string", "null"],
                                       "description": "Curseur de la page suivante, à passer dans `after`"},
                        "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                                   "description": "Demandes par statut avec les mêmes filtres, comptées jusqu'à "
                                                  "`counts_capped_at` + 1 (au-delà : « plus de »)"},
                        "counts_capped_at": {"type": "integer"}}}}}},
                    **_ERRORS},
            }, "post": {
                "operationId": "create_ticket", "tags": ["demandes"],
                "summary": "Enregistrer un appel ou une visite : la demande est ouverte comme par les autres canaux",
                "description": "Canal `phone`. Le tri et l'orientation du guichet proposent la catégorie et "
                               "l'organisation (avec l'article de la convention) ; `intent` et `organisation` les "
                               "confirment ou les corrigent (`reason` obligatoire pour une autre organisation que "
                               "celle de la convention). L'école doit être dans votre périmètre. Le demandeur reçoit "
                               "la référence sur Telegram ou par courriel si un moyen de le joindre est connu. "
                               "`dry_run` : seulement la proposition, rien n'est enregistré.",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/NewTicket"}}}},
                "responses": {
                    "201": {"description": "Demande ouverte", "headers": {"Location": {"schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LoggedCall"}}}},
                    "200": {"description": "Proposition seule (`dry_run`)", "content": {"application/json": {
                        "schema": {"type": "object", "required": ["suggestion"], "properties": {
                            "suggestion": {"$ref": "#/components/schemas/Suggestion"}}}}}},
                    **_ERRORS},
            }},
            "/api/v1/tickets/{reference}": {"get": {
                "operationId": "get_ticket", "summary": "Une demande avec son historique", "tags": ["demandes"],
                "parameters": [_REF],
                "responses": {"200": {"description": "La demande", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/TicketDetail"}}}},
                    "404": _error("Demande introuvable ou hors de votre périmètre"), **_ERRORS},
            }},
            "/api/v1/tickets/{reference}/actions/claim": {"post": _action("claim", "Prendre en charge", "Empty")},
            "/api/v1/tickets/{reference}/actions/reply": {"post": _action("reply", "Répondre au demandeur (sur son canal)", "Message")},
            "/api/v1/tickets/{reference}/actions/note": {"post": _action("note", "Ajouter une note interne", "Text")},
            "/api/v1/tickets/{reference}/actions/ask": {"post": _action("ask", "Demander une information (statut « en attente »)", "Message")},
            "/api/v1/tickets/{reference}/actions/reroute": {"post": _action("reroute", "Réacheminer vers une autre organisation", "Reroute")},
            "/api/v1/tickets/{reference}/actions/resolve": {"post": _action("resolve", "Résoudre et prévenir le demandeur", "Resolve")},
            "/api/v1/schools": {"get": {
                "operationId": "list_schools", "summary": "Écoles du territoire", "tags": ["référentiel"],
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, *_PAGE],
                "responses": {"200": {"description": "Une page d'écoles", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/School"}},
                        "page": {"type": "integer"}, "per_page": {"type": "integer"},
                        "next_page": {"type": ["integer", "null"]}}}}}}, **_ERRORS},
            }},
            "/api/v1/assets": {"get": {
                "operationId": "find_asset",
                "summary": "Un matériel par son étiquette (tag), ou l'inventaire filtré, par pages",
                "description": "Avec `tag` : le matériel et ses demandes. Sans `tag` : les matériels visibles, "
                               "triés par étiquette ; la page suivante commence après `next_after`.",
                "tags": ["référentiel"],
                "parameters": [
                    {"name": "tag", "in": "query", "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "description": "étiquette, numéro de série ou modèle, en partie",
                     "schema": {"type": "string"}},
                    {"name": "school", "in": "query", "description": "UAI, ou partie du nom de l'école",
                     "schema": {"type": "string"}},
                    {"name": "room", "in": "query", "schema": {"type": "string"}},
                    {"name": "type", "in": "query", "schema": {"type": "string", "enum": sorted(labels.EQUIPMENT)}},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": sorted(labels.ASSET_STATUS)}},
                    {"name": "owner", "in": "query", "schema": {"type": "string", "enum": sorted(labels.ASSET_OWNER)}},
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                ],
                "responses": {"200": {"description": "Le matériel, ou une page de l'inventaire", "content": {
                    "application/json": {"schema": {"oneOf": [
                        {"$ref": "#/components/schemas/AssetWithLogbook"},
                        {"type": "object", "properties": {
                            "items": {"type": "array", "items": {"$ref": "#/components/schemas/InventoryItem"}},
                            "per_page": {"type": "integer"}, "next_after": _NULL_STR}}]}}}},
                    "404": _error("Aucun matériel ne porte cette étiquette"), **_ERRORS},
            }},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Jeton créé par `guichet token create`"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"},
                        "details": {"type": "array", "items": {"type": "object"}}}}}},
                "School": {"type": "object", "properties": {
                    "uai": {"type": "string"}, "name": {"type": "string"},
                    "status": {"type": "string", "enum": ["public", "private"]}, "commune": _NULL_STR}},
                "Ticket": {"type": "object", "properties": ticket_props, "required": list(ticket_props)},
                "Event": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                    "kind": {"type": "string"}, "kind_label": {"type": "string"}, "actor_kind": {"type": "string"},
                    "actor_name": _NULL_STR, "channel": _NULL_STR, "from_status": _NULL_STR, "to_status": _NULL_STR,
                    "body": _NULL_STR, "internal": {"type": "boolean"}, "data": {"type": ["object", "null"]}}},
                "Attachment": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "filename": {"type": "string"}, "content_type": {"type": "string"},
                    "size": {"type": "integer"}, "event_id": {"type": ["integer", "null"]}}},
                "Asset": {"type": "object", "properties": {
                    "tag": {"type": "string"}, "type": {"type": "string"}, "type_label": {"type": "string"},
                    "model": _NULL_STR, "owner": {"type": "string"}, "school_uai": _NULL_STR,
                    "acquired_on": {"type": ["string", "null"], "format": "date"}}},
                "InventoryItem": {"type": "object", "properties": {
                    "tag": {"type": "string"}, "type": {"type": "string"}, "type_label": {"type": "string"},
                    "model": _NULL_STR, "serial": _NULL_STR, "owner": {"type": "string"}, "school_uai": _NULL_STR,
                    "school_name": _NULL_STR, "commune": _NULL_STR, "room": _NULL_STR,
                    "acquired_on": {"type": ["string", "null"], "format": "date"},
                    "value_cents": {"type": ["integer", "null"]}, "status": {"type": "string"},
                    "status_label": {"type": "string"}}},
                "AssetWithLogbook": {"allOf": [{"$ref": "#/components/schemas/Asset"}, {"type": "object", "properties": {
                    "tickets": {"type": "array", "items": {"type": "object", "properties": {
                        "reference": {"type": "string"}, "opened_at": {"type": "string", "format": "date-time"},
                        "intent": {"type": "string"}, "status": {"type": "string"}}}}}}]},
                "TicketDetail": {"allOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "object", "properties": {
                    "description": {"type": "string"}, "room": _NULL_STR, "reason": _NULL_STR,
                    "asset": {"oneOf": [{"$ref": "#/components/schemas/Asset"}, {"type": "null"}]},
                    "merged_into": _NULL_STR,
                    "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                    "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}}}}]},
                "Empty": {"type": "object", "additionalProperties": False},
                "Text": {"type": "object", "additionalProperties": False, "required": ["body"],
                         "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 20000}}},
                "Message": {"type": "object", "additionalProperties": False, "required": ["body"],
                            "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 20000},
                                           "article": _ARTICLE}},
                "Resolve": {"type": "object", "additionalProperties": False,
                            "properties": {"body": {"type": ["string", "null"], "maxLength": 20000,
                                                    "description": "Message au demandeur ; un message par défaut sinon"},
                                           "article": _ARTICLE}},
                "Reroute": {"type": "object", "additionalProperties": False, "required": ["organisation", "reason"],
                            "properties": {"organisation": {"type": "string", "description": "Identifiant court (slug)"},
                                           "reason": {"type": "string", "minLength": 1}}},
                "Caller": {"type": "object", "additionalProperties": False,
                           "description": "Un demandeur existant (`id`) ou une nouvelle personne (`name`, `phone`, "
                                          "`email` facultatif) ; un numéro ou une adresse déjà connus désignent "
                                          "la même personne.",
                           "properties": {"id": {"type": ["integer", "null"], "minimum": 1},
                                          "name": {"type": ["string", "null"], "maxLength": 200},
                                          "role": {"type": "string", "enum": ["teacher", "director"],
                                                   "default": "teacher"},
                                          "phone": {"type": ["string", "null"], "maxLength": 40,
                                                    "examples": ["04 77 12 34 56"]},
                                          "email": {"type": ["string", "null"], "format": "email", "maxLength": 254}}},
                "NewTicket": {"type": "object", "additionalProperties": False,
                              "required": ["school", "text", "requester"], "properties": {
                                  "school": {"type": "string", "description": "Code UAI de l'école"},
                                  "text": {"type": "string", "minLength": 1, "maxLength": 20000,
                                           "description": "Le message, tel que la personne l'a dit"},
                                  "requester": {"$ref": "#/components/schemas/Caller"},
                                  "asset_tag": {"type": ["string", "null"], "maxLength": 64},
                                  "mode": {"type": "string", "enum": ["call", "visit"], "default": "call"},
                                  "intent": {"type": ["string", "null"], "enum": [i.value for i in CALL_INTENTS] + [None],
                                             "description": "Catégorie ; par défaut celle du tri"},
                                  "organisation": {"type": ["string", "null"], "maxLength": 100,
                                                   "description": "Identifiant court ; par défaut celle de la convention"},
                                  "reason": {"type": ["string", "null"], "maxLength": 2000},
                                  "dry_run": {"type": "boolean", "default": False}}},
                "Suggestion": {"type": "object", "required": ["intent", "organisation", "reason"], "properties": {
                    "intent": {"type": "string", "enum": [i.value for i in CALL_INTENTS]}, "intent_label": {"type": "string"},
                    "triaged_intent": {"type": "string", "enum": [i.value for i in Intent]},
                    "confidence": {"type": "number"}, "equipment": _NULL_STR,
                    "organisation": {"type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"}}},
                    "reason": {"type": "string"}, "rule": {"type": "string"}}},
                "LoggedCall": {"type": "object", "required": ["reference", "status", "organisation", "message"],
                               "properties": {
                    "reference": {"type": "string"}, "references": {"type": "array", "items": {"type": "string"},
                                                                    "description": "Avec la demande liée d'un vol"},
                    "status": {"type": "string"}, "intent": {"type": "string"}, "channel": {"type": "string", "const": "phone"},
                    "organisation": {"type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"}}},
                    "in_scope": {"type": "boolean", "description": "false : la demande est partie dans la file "
                                                                   "d'une autre organisation"},
                    "notified": {"type": ["string", "null"], "description": "Canal où le demandeur a reçu la référence"},
                    "corrected": {"type": "boolean"}, "suggestion": {"$ref": "#/components/schemas/Suggestion"},
                    "message": {"type": "string"}}},
                "ActionResult": {"type": "object", "required": ["reference", "status", "message"], "properties": {
                    "reference": {"type": "string"}, "status": {"type": "string"}, "message": {"type": "string"},
                    "outbox_id": {"type": ["integer", "null"]}}},
            },
        },
    }
