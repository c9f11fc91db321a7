"""Form descriptions and checks of the administration pages (organisations, agents, schools)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from web import labels

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,99}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a form, with its current value and error once checked."""

    name: str
    label: str
    kind: str = "text"  # text, email, password, select, checkbox
    required: bool = True
    options: tuple[tuple[str, str], ...] = ()
    hint: str | None = None
    autocomplete: str = "off"
    value: Any = ""
    error: str | None = None


def bind(fields: list[Field], data: dict[str, Any]) -> list[Field]:
    return [replace(f, value=data.get(f.name, f.value)) for f in fields]


def read(fields: list[Field], form: Any) -> dict[str, Any]:
    """Form values, trimmed; a checkbox reads as a bool."""
    return {
        f.name: (f.name in form) if f.kind == "checkbox" else str(form.get(f.name, "")).strip()
        for f in fields
    }


def check_required(fields: list[Field], values: dict[str, Any]) -> dict[str, str]:
    errors = {}
    for f in fields:
        if f.required and f.kind != "checkbox" and not values.get(f.name):
            errors[f.name] = "Ce champ est obligatoire."
        elif f.kind == "select" and values.get(f.name) and values[f.name] not in {v for v, _ in f.options}:
            errors[f.name] = "Choisissez une valeur de la liste."
        elif f.kind == "email" and values.get(f.name) and not EMAIL.match(values[f.name]):
            errors[f.name] = "Adresse électronique invalide."
    return errors


def with_errors(fields: list[Field], values: dict[str, Any], errors: dict[str, str]) -> list[Field]:
    return [replace(f, value=values.get(f.name, f.value), error=errors.get(f.name)) for f in fields]


def organisation_fields() -> list[Field]:
    return [
        Field("name", "Nom", autocomplete="organization"),
        Field("kind", "Type", "select", options=tuple(labels.ORG_KIND.items())),
        Field("slug", "Identifiant court", hint="Minuscules, chiffres et tirets, par exemple commune-firminy."),
        Field("email", "Adresse électronique de l'équipe", "email", required=False),
        Field("telegram_chat_id", "Groupe Telegram des agents (identifiant)", required=False,
              hint="Facultatif : les alertes de délai y sont aussi envoyées, par exemple -1001234567890."),
    ]


def agent_fields(organisations: list[tuple[str, str]], *, creating: bool,
                 roles: list[str] | None = None) -> list[Field]:
    """The agent form; `roles` limits the roles offered (a national one only to a national admin)."""
    offered = tuple((k, v) for k, v in labels.ROLE.items() if roles is None or k in roles)
    return [
        Field("name", "Nom affiché", autocomplete="name"),
        Field("email", "Adresse électronique", "email", autocomplete="email"),
        Field("organisation", "Organisation", "select", options=tuple(organisations)),
        Field("role", "Rôle", "select", options=offered),
        Field("password", "Mot de passe", "password", required=creating, autocomplete="new-password",
              hint=None if creating else "Laissez vide pour garder le mot de passe actuel. 10 caractères au moins."),
        Field("active", "Compte actif", "checkbox", required=False, value=True),
    ]


def school_fields(communes: list[tuple[str, str]]) -> list[Field]:
    return [
        Field("uai", "Code UAI", hint="7 chiffres et une lettre de contrôle, par exemple 0421001K."),
        Field("name", "Nom de l'école"),
        Field("kind", "Type d'établissement", value="Ecole"),
        Field("status", "Statut", "select", options=tuple(labels.SCHOOL_STATUS.items())),
        Field("commune", "Commune", "select", options=tuple(communes)),
        Field("address", "Adresse", required=False, autocomplete="street-address"),
        Field("postal_code", "Code postal", required=False, autocomplete="postal-code"),
        Field("email", "Adresse électronique", "email", required=False),
        Field("phone", "Téléphone", required=False, autocomplete="tel"),
    ]
