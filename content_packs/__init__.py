"""Content packs: the format, validation, safe import, building and grading.

Pure data handling plus file I/O: nothing here imports the web app or the database, and nothing
in a pack is ever executed. See SPEC.md for the format.
"""
from .build import build, write_checksums
from .catalogue import Catalogue
from .grading import Grade, grade, normalize_text, parse_response
from .graph import CycleError, find_cycles, topological_order
from .loader import load_pack
from .model import Choice, Item, Localized, NumericAnswer, Option, Pack, Resource, Skill, WrongAnswer
from .numbers import Number, parse_number
from .report import BadResponse, PackError, PackInvalid, PackNotFound, Problem, Report, UnsafePack
from .safe_io import DEFAULT_LIMITS, Limits, extract_pack
from .validate import validate

__all__ = [
    "BadResponse", "Catalogue", "Choice", "CycleError", "DEFAULT_LIMITS", "Grade", "Item", "Limits",
    "Localized", "Number", "NumericAnswer", "Option", "Pack", "PackError", "PackInvalid", "PackNotFound",
    "Problem", "Report", "Resource", "Skill", "UnsafePack", "WrongAnswer", "build", "extract_pack",
    "find_cycles", "grade", "load_pack", "normalize_text", "parse_response", "parse_number",
    "topological_order", "validate", "write_checksums",
]
