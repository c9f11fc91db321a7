"""How teachers name the equipment: surface forms mapped to the canonical `Equipment` value.

Forms are written as people type them (accents or not, slang, frequent misspellings); the
analyser folds them the same way as the text, so « vidéoprojo » and « videoprojo » are one
entry. Longer phrases win over their first word: « écran interactif » is not « écran ».
"""

from __future__ import annotations

from domain.vocabulary import Equipment

EQUIPMENT_SYNONYMS: dict[Equipment, tuple[str, ...]] = {
    Equipment.PROJECTOR: (
        "vidéoprojecteur", "vidéo projecteur", "vidéo-projecteur", "vidéoprojo", "vidéo projo",
        "projo", "projecteur", "VP", "vidéoproj", "videoprojecteure",
    ),
    Equipment.INTERACTIVE_PROJECTOR: (
        "VPI", "vidéoprojecteur interactif", "vidéo projecteur interactif", "projecteur interactif",
        "projo interactif", "VP interactif",
    ),
    Equipment.INTERACTIVE_DISPLAY: (
        "TNI", "TBI", "ENI", "écran interactif", "écran numérique interactif", "écran tactile",
        "tableau numérique interactif", "tableau blanc interactif", "tableau numérique",
        "tableau interactif", "écran numérique",
    ),
    Equipment.DESKTOP: (
        "ordinateur", "ordi", "PC", "ordinateur fixe", "ordi fixe", "PC fixe", "poste fixe",
        "unité centrale", "UC", "poste informatique", "ordinnateur", "ordinateure",
    ),
    Equipment.LAPTOP: (
        "portable", "ordinateur portable", "ordi portable", "PC portable", "laptop",
        "ultraportable", "notebook",
    ),
    Equipment.TABLET: ("tablette", "iPad", "tablette numérique", "tablete", "tabette"),
    Equipment.PRINTER: (
        "imprimante", "imprimente", "imprimmante", "inprimante", "imprimante laser",
        "imprimante couleur", "imprimante jet d'encre",
    ),
    Equipment.COPIER: (
        "copieur", "photocopieur", "photocopieuse", "multifonction",
        "imprimante multifonction", "copieur multifonction", "photocopieur multifonction",
    ),
    Equipment.WIFI_ACCESS_POINT: (
        "borne wifi", "borne wi-fi", "borne", "point d'accès", "point d'accès wifi",
        "borne sans fil", "access point",
    ),
    Equipment.DISPLAY_DONGLE: (
        "dongle", "boîtier de partage", "boîtier de partage d'écran", "boîtier d'affichage",
        "dongle d'affichage", "boîtier de recopie", "clé de partage", "boîtier sans fil",
    ),
    Equipment.NAS: ("NAS", "serveur NAS", "serveur de fichiers", "disque réseau", "serveur"),
    Equipment.ROUTER: ("box", "box internet", "routeur", "switch", "commutateur", "modem", "livebox"),
    Equipment.DOCUMENT_CAMERA: (
        "visualiseur", "visualisateur", "visionneuse", "caméra de document",
        "caméra document", "visu",
    ),
    Equipment.SPEAKER: ("enceinte", "haut-parleur", "haut parleur", "baffle"),
    Equipment.HEADSET: ("casque", "casque audio", "écouteur", "micro-casque"),
    Equipment.MONITOR: ("écran", "moniteur", "écran d'ordinateur", "deuxième écran", "second écran"),
    Equipment.KEYBOARD_MOUSE: ("clavier", "souris", "clavier souris", "clavier et souris"),
    Equipment.PHONE: (
        "téléphone", "téléphone fixe", "ligne téléphonique", "poste téléphonique",
        "ligne de téléphone", "standard téléphonique",
    ),
    Equipment.WHITEBOARD: (
        "tableau blanc", "tableau à craie", "tableau noir", "tableau velleda", "velleda",
    ),
    Equipment.CHARGING_CART: (
        "chariot", "chariot de recharge", "valise", "valise de recharge", "station de recharge",
        "armoire de recharge", "mallette de recharge",
    ),
    Equipment.NETWORK_SOCKET: (
        "prise réseau", "prise RJ45", "RJ45", "câble réseau", "câble ethernet", "prise ethernet",
        "câblage", "prise murale réseau",
    ),
}

#: Multi-word expressions indexed as one term, so that « clé USB » is not the door « clé » and
#: « mot de passe » is not the verb « passer ». Keys are the compound tokens.
PHRASES: dict[str, tuple[str, ...]] = {
    "cle_usb": ("clé USB", "clef USB", "clés USB"),
    "port_usb": ("port USB", "prise USB"),
    "mot_de_passe": ("mot de passe", "mdp", "mot de passe oublié"),
    "mise_a_jour": ("mise à jour", "maj", "windows update"),
    "hors_connexion": ("hors connexion", "hors ligne", "offline"),
    "recto_verso": ("recto verso", "recto-verso"),
    "carnet_de_bord": ("carnet de bord", "cahier de suivi"),
    "dossier_partage": ("dossier partagé", "dossier commun", "lecteur réseau", "partage réseau"),
    "mode_avion": ("mode avion",),
    "file_attente": ("file d'attente", "file d'impression"),
    "adresse_ip": ("adresse IP",),
    "acces_guide": ("accès guidé",),
    "pas_de_signal": ("pas de signal", "aucun signal", "aucune source", "no signal", "signal"),
    "pas_de_son": (
        "pas de son", "le son", "du son", "aucun son", "sans son", "sans le son", "son coupé",
        "plus de son", "pas le son", "audio",
    ),
}
