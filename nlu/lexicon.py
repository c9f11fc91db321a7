"""Built-in French vocabulary: equipment names, rooms, numbers and function words.

The training data (synonyms, annotated examples, lookups) extends and overrides these;
they make entity extraction useful before the data is complete.
"""

from __future__ import annotations

from domain.vocabulary import Equipment as E

#: Surface forms (any case/accents) -> canonical equipment value.
EQUIPMENT_FORMS: dict[str, E] = {
    # projectors
    "vidéoprojecteur": E.PROJECTOR,
    "vidéo-projecteur": E.PROJECTOR,
    "vidéo projecteur": E.PROJECTOR,
    "videoproj": E.PROJECTOR,
    "vidéoprojo": E.PROJECTOR,
    "projecteur": E.PROJECTOR,
    "projo": E.PROJECTOR,
    # « le boîtier accroché au plafond qui envoie l'image sur le tableau », « le boîtier qui projette »
    "boîtier au plafond": E.PROJECTOR,
    "boîtier accroché au plafond": E.PROJECTOR,
    "boîtier du plafond": E.PROJECTOR,
    "boîtier qui projette": E.PROJECTOR,
    "VP": E.PROJECTOR,
    "VPI": E.INTERACTIVE_PROJECTOR,
    "vidéoprojecteur interactif": E.INTERACTIVE_PROJECTOR,
    "projecteur interactif": E.INTERACTIVE_PROJECTOR,
    "TBI": E.INTERACTIVE_DISPLAY,
    "TNI": E.INTERACTIVE_DISPLAY,
    "ENI": E.INTERACTIVE_DISPLAY,
    "écran interactif": E.INTERACTIVE_DISPLAY,
    "écran numérique interactif": E.INTERACTIVE_DISPLAY,
    "écran tactile": E.INTERACTIVE_DISPLAY,
    "tableau numérique": E.INTERACTIVE_DISPLAY,
    "tableau numérique interactif": E.INTERACTIVE_DISPLAY,
    "tableau interactif": E.INTERACTIVE_DISPLAY,
    "tableau blanc interactif": E.INTERACTIVE_DISPLAY,
    "Speechi": E.INTERACTIVE_DISPLAY,
    # the classroom's « grand écran » is its interactive display, not a computer's monitor
    "grand écran": E.INTERACTIVE_DISPLAY,
    "grand écran tactile": E.INTERACTIVE_DISPLAY,
    "grand écran numérique": E.INTERACTIVE_DISPLAY,
    # how a supply teacher names it (« la grande télé où on écrit dessus », « la gde tele »)
    "grande télé": E.INTERACTIVE_DISPLAY,
    "gde télé": E.INTERACTIVE_DISPLAY,
    "grande télévision": E.INTERACTIVE_DISPLAY,
    "télé tactile": E.INTERACTIVE_DISPLAY,
    "télé interactive": E.INTERACTIVE_DISPLAY,
    "écran numérique": E.INTERACTIVE_DISPLAY,
    # computers
    "ordinateur": E.DESKTOP,
    "ordi": E.DESKTOP,
    "PC": E.DESKTOP,
    "poste": E.DESKTOP,
    "poste informatique": E.DESKTOP,
    "poste fixe": E.DESKTOP,
    "ordinateur fixe": E.DESKTOP,
    "unité centrale": E.DESKTOP,
    "portable": E.LAPTOP,
    "ordinateur portable": E.LAPTOP,
    "PC portable": E.LAPTOP,
    "ordi portable": E.LAPTOP,
    "laptop": E.LAPTOP,
    "notebook": E.LAPTOP,
    "tablette": E.TABLET,
    "iPad": E.TABLET,
    "tablette numérique": E.TABLET,
    # printing
    "imprimante": E.PRINTER,
    "imprimante laser": E.PRINTER,
    "photocopieur": E.COPIER,
    "photocopieuse": E.COPIER,
    "copieur": E.COPIER,
    "multifonction": E.COPIER,
    "imprimante multifonction": E.COPIER,
    "photocopieur multifonction": E.COPIER,
    "copieur multifonction": E.COPIER,
    # « la grosse machine du couloir qui photocopie »
    "grosse machine": E.COPIER,
    "machine à photocopier": E.COPIER,
    "machine à photocopies": E.COPIER,
    # network
    "borne wifi": E.WIFI_ACCESS_POINT,
    "borne wi-fi": E.WIFI_ACCESS_POINT,
    "borne": E.WIFI_ACCESS_POINT,
    "point d'accès": E.WIFI_ACCESS_POINT,
    "point d'accès wifi": E.WIFI_ACCESS_POINT,
    "boîtier wifi": E.WIFI_ACCESS_POINT,
    "boîtier wi-fi": E.WIFI_ACCESS_POINT,
    "clé HDMI": E.DISPLAY_DONGLE,
    "dongle": E.DISPLAY_DONGLE,
    "boîtier de partage": E.DISPLAY_DONGLE,
    "ClickShare": E.DISPLAY_DONGLE,
    "boîtier d'affichage sans fil": E.DISPLAY_DONGLE,
    "Chromecast": E.DISPLAY_DONGLE,
    "NAS": E.NAS,
    "serveur": E.NAS,
    "serveur de fichiers": E.NAS,
    "box": E.ROUTER,
    "box internet": E.ROUTER,
    "Livebox": E.ROUTER,
    "routeur": E.ROUTER,
    "switch": E.ROUTER,
    "commutateur": E.ROUTER,
    "modem": E.ROUTER,
    # « la boîte avec les lumières dans le placard du bureau »
    "boîte internet": E.ROUTER,
    "boîtier internet": E.ROUTER,
    "boîte avec les lumières": E.ROUTER,
    "boîte avec des lumières": E.ROUTER,
    # classroom devices
    "visualiseur": E.DOCUMENT_CAMERA,
    "caméra document": E.DOCUMENT_CAMERA,
    # described rather than named: « la petite caméra sur un bras qu'on place au-dessus des cahiers »
    "caméra sur bras": E.DOCUMENT_CAMERA,
    "caméra sur un bras": E.DOCUMENT_CAMERA,
    "caméra montée sur un bras": E.DOCUMENT_CAMERA,
    "caméra sur bras articulé": E.DOCUMENT_CAMERA,
    "bras articulé": E.DOCUMENT_CAMERA,
    "caméra sur pied": E.DOCUMENT_CAMERA,  # « la petite caméra sur pied posée sur le bureau »
    "caméra sur son pied": E.DOCUMENT_CAMERA,
    # « le petit appareil photo sur pied qui filme la feuille »
    "appareil photo sur pied": E.DOCUMENT_CAMERA,
    "appareil sur pied": E.DOCUMENT_CAMERA,
    "appareil qui filme": E.DOCUMENT_CAMERA,
    "tab": E.TABLET,  # « écran de la tab fissuré »
    "jet d'encre": E.PRINTER,  # « cartouches pour la jet d'encre du CP »
    "enceinte": E.SPEAKER,
    "haut-parleur": E.SPEAKER,
    "haut parleur": E.SPEAKER,
    "baffle": E.SPEAKER,
    "casque": E.HEADSET,
    "casque audio": E.HEADSET,
    "écouteurs": E.HEADSET,
    "écran": E.MONITOR,
    "moniteur": E.MONITOR,
    "écran du PC": E.MONITOR,
    # a desktop's screen is a device of its own (« l'écran du poste de direction clignote »)
    "écran du poste": E.MONITOR,
    "écrans des postes": E.MONITOR,
    "écrans des PC": E.MONITOR,
    "clavier": E.KEYBOARD_MOUSE,
    "souris": E.KEYBOARD_MOUSE,
    "téléphone": E.PHONE,
    "téléphone fixe": E.PHONE,
    "ligne téléphonique": E.PHONE,
    "ligne fixe": E.PHONE,  # « la ligne fixe de l'école est coupée »
    "poste téléphonique": E.PHONE,
    "standard téléphonique": E.PHONE,
    "téléphone portable": E.PHONE,
    # « plus de tonalité sur le tel de l'école », « ligne tél muette »: only the phone line has a dial tone
    "tél": E.PHONE,
    "ligne tél": E.PHONE,
    "ligne de tél": E.PHONE,
    "tonalité": E.PHONE,
    "tableau blanc": E.WHITEBOARD,
    "tableau Velleda": E.WHITEBOARD,
    "tableau à craie": E.WHITEBOARD,
    "tableau noir": E.WHITEBOARD,
    "chariot": E.CHARGING_CART,
    "chariot de recharge": E.CHARGING_CART,
    "chariot mobile": E.CHARGING_CART,
    "valise": E.CHARGING_CART,
    "valise de recharge": E.CHARGING_CART,
    "classe mobile": E.CHARGING_CART,
    # « le grand meuble à roulettes où on range les tablettes »
    "meuble à roulettes": E.CHARGING_CART,
    "meuble de recharge": E.CHARGING_CART,
    "armoire de recharge": E.CHARGING_CART,
    "prise réseau": E.NETWORK_SOCKET,
    "prise RJ45": E.NETWORK_SOCKET,
    "RJ45": E.NETWORK_SOCKET,
    "câble réseau": E.NETWORK_SOCKET,
    "câblage": E.NETWORK_SOCKET,
    "câblage réseau": E.NETWORK_SOCKET,
    "prise ethernet": E.NETWORK_SOCKET,
}

#: Phrases that hold a device's name but name no device: a page on the screen (« l'écran de
#: connexion »), screen time (« l'éducation aux écrans »), the writer's own phone.
NOT_EQUIPMENT_PHRASES: tuple[str, ...] = (
    "écran de connexion",
    "écran d'accueil",
    "écran de veille",
    "écran de verrouillage",
    "écran d'identification",
    "éducation aux écrans",
    "exposition aux écrans",
    "aux écrans",  # « l'éducation aux médias et aux écrans »
    "mon téléphone",  # « le code n'arrive jamais sur mon téléphone »: her own, not the school's line
    "mon smartphone",
    "mon mobile",
    "temps d'écran",
    "temps d'écrans",
)

#: Rooms written as they are, besides the « salle 3 » / « classe de CE1 » patterns.
ROOM_FORMS: tuple[str, ...] = (
    "salle informatique",
    "salle info",
    "salle des maîtres",
    "salle des maitres",
    "salle des profs",
    "salle de motricité",
    "salle de sieste",
    "salle polyvalente",
    "salle de réunion",
    "BCD",
    "bibliothèque",
    "bureau de la direction",
    "bureau du directeur",
    "bureau de la directrice",
    "direction",
    "dortoir",
    "préau",
    "cantine",
    "réfectoire",
)

#: Class levels of a French primary school.
CLASS_LEVELS: tuple[str, ...] = (
    "TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2", "ULIS", "UPE2A", "RASED",
    "CP-CE1", "CE1-CE2", "CE2-CM1", "CM1-CM2", "GS-CP", "PS-MS", "MS-GS",
)

#: French number words -> value.
NUMBER_WORDS: dict[str, int] = {
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "trente": 30, "quarante": 40,
    "cinquante": 50, "soixante": 60, "cent": 100,
    "dizaine": 10, "douzaine": 12, "quinzaine": 15, "vingtaine": 20, "trentaine": 30,
}

#: Words after a number that make it a duration, a time or a measure, not a quantity.
NOT_QUANTITY_UNITS: frozenset[str] = frozenset(
    "h heure heures min mn minute minutes s sec seconde secondes jour jours j semaine "
    "semaines mois an ans annee annees fois % pourcent euros euro eur e go mo ko ghz mhz "
    "mb gb gbit mbit cm mm m metre metres pouces pouce w v volts h00 heures30 eme e ere er "
    "septembre octobre novembre decembre janvier fevrier mars avril mai juin juillet aout "
    "ans".split()
)

#: Articles and possessives skipped when looking at the word before an equipment name.
DETERMINERS: frozenset[str] = frozenset(
    "le la les l un une des du de d mon ma mes ton ta tes son sa ses notre nos votre vos "
    "leur leurs ce cet cette ces nouveau nouvelle vieux vieil vieille".split()
)

#: Prepositions that make an equipment name a complement (« sur le vidéoprojecteur »).
LOCATIVE_PREPOSITIONS: frozenset[str] = frozenset(
    "sur au aux a avec vers via depuis dans sous derriere pour par contre entre".split()
)

#: Prepositions that make an equipment name the complement of a noun (« l'écran du PC »).
GENITIVE_PREPOSITIONS: frozenset[str] = frozenset("de du des d".split())

#: Common words never corrected to an equipment name, whatever the fuzzy score.
COMMON_WORDS: frozenset[str] = frozenset(
    "sourire sourit ecrire ecrit ecole ecoles tablier table tables poster postes poste portail "
    "porte portes portee caisse classe classes casser cassee casse cassees clavier boite "
    "bonjour bonsoir merci madame monsieur projet projets projette imprime imprimer imprimes "
    "borner bornes tourne tournee tours toute toutes chariots valises serveur serveurs "
    "prendre prise prises pris surtout souvent enceinte enceintes ordinaire reseau reseaux "
    "portables tablettes ecran ecrans cordialement directrice directeur telephoner "
    "imprimee imprimees projete portait portait tablee route routes routier routiere".split()
)
