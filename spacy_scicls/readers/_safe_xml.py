"""XML parsing that treats every file as hostile.

Built directly on expat (the parser in the standard library), with handlers
that refuse what makes XML dangerous:

- any entity declaration (``<!ENTITY ...>``) is refused, which stops entity
  expansion bombs ("billion laughs", quadratic blow-up) and external
  entities (``SYSTEM "file:///etc/passwd"``) before they are used;
- external DTDs and external parameter entities are never fetched or read:
  a ``<!DOCTYPE article PUBLIC ... "http://...dtd">`` is noted and ignored;
- named character entities that such a DTD would define (JATS files use
  ``&ndash;``, ``&rsqb;``, ...) are taken from the HTML5 entity table, the
  same characters the JATS/MathML entity sets define; an unknown one is kept
  as literal text.

Element and attribute names lose their namespace (``{uri}head`` becomes
``head``): the readers match local names only.
"""
import html.entities
from typing import Optional
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat


class UnsafeXMLError(ValueError):
    """The document declares entities, or asks for something a safe parser refuses."""


#: Deepest element nesting read: papers nest a few dozen levels; the readers walk the tree
#: recursively, so a file nested thousands deep is refused here rather than overflow them.
MAX_DEPTH = 400


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def parse_xml(data: bytes) -> Element:
    """Parse ``data`` into an ElementTree element, safely.

    Raises :class:`UnsafeXMLError` for entity declarations and external
    entity references, and ``xml.parsers.expat.ExpatError`` for malformed XML.
    """
    builder = TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True

    depth = [0]

    def start(tag, attrs):
        depth[0] += 1
        if depth[0] > MAX_DEPTH:
            raise UnsafeXMLError(f"nests elements more than {MAX_DEPTH} deep: nested too deeply to read")
        builder.start(_local(tag), {_local(k): v for k, v in attrs.items()})

    def end(tag):
        depth[0] -= 1
        builder.end(_local(tag))

    def entity_decl(name, is_parameter, value, base, system_id, public_id, notation):
        raise UnsafeXMLError(f"declares the entity {name!r}; entity declarations are refused")

    def unparsed_entity_decl(name, base, system_id, public_id, notation):
        raise UnsafeXMLError(f"declares the unparsed entity {name!r}; entity declarations are refused")

    def external_entity_ref(context, base, system_id, public_id):
        raise UnsafeXMLError(f"refers to the external entity {system_id or public_id!r}; external entities are refused")

    def skipped_entity(name, is_parameter):
        if is_parameter:
            return
        char: Optional[str] = html.entities.html5.get(name + ";")
        builder.data(char if char is not None else f"&{name};")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = unparsed_entity_decl
    parser.ExternalEntityRefHandler = external_entity_ref
    parser.SkippedEntityHandler = skipped_entity
    parser.Parse(data, True)
    root = builder.close()
    return root
