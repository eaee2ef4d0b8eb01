"""Table-driven validation of N-CREATE / N-SET attribute lists.

Each SOP class module declares a tuple of :class:`Rule` objects, one per
attribute the standard lists for the operation. :func:`parse_attributes`
applies the usage semantics of PS3.4 H.2.4 uniformly:

- an SCU-mandatory attribute that is missing: 0x0120; present but empty: 0x0121;
- a value that is not legal for the attribute: 0x0106;
- a legal value the printer does not support: 0x0106 when the profile is
  strict, otherwise warning 0x0116 and the printer's default;
- an attribute the operation does not take: 0x0105 when strict, otherwise
  warning 0x0107 and the attribute is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from attrs import define, field, frozen
from pydicom import Dataset
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag

from .profile import PrinterProfile
from .status import PrintError, Status
from .values import Parser, quoted

log = logging.getLogger(__name__)

_SPECIFIC_CHARACTER_SET = Tag(0x0008, 0x0005)


#: Rule.empty value meaning "an empty element is not a value" (the default).
NO_VALUE = object()


class UnsupportedValueError(ValueError):
    """A legal value that this printer does not support."""


Check = Callable[[Any, PrinterProfile, list[Status]], Any]
Default = Callable[[PrinterProfile], Any]


@frozen
class Rule:
    """How one attribute of one operation is validated and stored.

    ``attribute`` names the model field that receives the value (the DICOM
    keyword unless given). ``check`` may adjust the value (appending a
    warning status) or raise :class:`UnsupportedValueError`; ``default`` supplies the
    printer's value when an unsupported one is replaced leniently.
    ``empty`` is the value an empty element stands for; by default an empty
    element is no value (0x0121 for a mandatory attribute, else ignored).
    """

    keyword: str
    parse: Parser
    mandatory: bool = False
    check: Check | None = None
    default: Default | None = None
    attribute: str = field()
    empty: Any = NO_VALUE

    @attribute.default
    def _attribute(self) -> str:
        return self.keyword

    @property
    def tag(self) -> int:
        tag = tag_for_keyword(self.keyword)
        if tag is None:
            raise KeyError(self.keyword)
        return tag


@define
class Parsed:
    """The outcome of validating one attribute list."""

    values: dict[str, Any] = field(factory=dict)
    warnings: list[Status] = field(factory=list)
    comments: list[str] = field(factory=list)
    #: Tags of the attributes ignored because they are not supported (0x0107).
    unrecognized: list[int] = field(factory=list)

    def warn(self, status: Status, comment: str, why: str = "") -> None:
        """Record a warning; ``comment`` goes to the SCU, ``why`` only to the log."""
        self.warnings.append(status)
        self.comments.append(comment)
        log.warning("%s: %s%s", status, comment, f" ({why})" if why else "")


def parse_attributes(dataset: Dataset, rules: Sequence[Rule], profile: PrinterProfile) -> Parsed:
    """Validate ``dataset`` against ``rules``; raise PrintError on failure."""
    by_tag = {rule.tag: rule for rule in rules}
    parsed = Parsed()
    for tag in list(dataset.keys()):
        if tag.element == 0 or tag == _SPECIFIC_CHARACTER_SET:
            continue
        rule = by_tag.get(tag)
        name = keyword_for_tag(tag) or str(tag)
        if rule is None:
            if profile.strict:
                raise PrintError(Status.NO_SUCH_ATTRIBUTE, f"{name} {tag} is not supported")
            parsed.warn(Status.ATTRIBUTE_LIST_ERROR, f"{name} {tag} not supported: ignored")
            parsed.unrecognized.append(int(tag))
            continue
        try:
            raw = dataset[tag].value
        except Exception as exc:  # pydicom raises many kinds on undecodable values
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{name}: {exc}") from exc
        if _is_empty(raw):
            if rule.empty is not NO_VALUE:
                parsed.values[rule.attribute] = rule.empty
            elif rule.mandatory:
                raise PrintError(Status.MISSING_ATTRIBUTE_VALUE, f"{name} has no value")
            continue
        try:
            value = rule.parse(raw)
        except PrintError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{name}: {exc}") from exc
        if rule.check is not None:
            warned = len(parsed.warnings)
            try:
                checked = rule.check(value, profile, parsed.warnings)
                if len(parsed.warnings) > warned:  # e.g. clamped: say from what to what
                    changed = f"{value} -> {checked}" if checked != value else "changed"
                    parsed.comments.append(f"{name} {changed}")
                value = checked
            except UnsupportedValueError as exc:
                if profile.strict or rule.default is None:
                    raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{name}: {exc}") from exc
                shown = value if isinstance(value, str | int) else str(raw)
                value = rule.default(profile)
                # Short: an Error Comment holds 64 characters.
                parsed.warn(
                    Status.ATTRIBUTE_VALUE_OUT_OF_RANGE,
                    f"{name} {quoted(shown)} not supported: {quoted(value)} used",
                    why=str(exc),
                )
        parsed.values[rule.attribute] = value
    for rule in rules:
        if rule.mandatory and rule.attribute not in parsed.values:
            raise PrintError(Status.MISSING_ATTRIBUTE, f"{rule.keyword} is missing")
    return parsed


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str | bytes | DicomSequence | list | tuple):
        return len(value) == 0
    return False


def supported_in(option: Callable[[PrinterProfile], Iterable[Any]]) -> Check:
    """A check that the value is one of the profile's options."""

    def check(value: Any, profile: PrinterProfile, warnings: list[Status]) -> Any:
        if value not in option(profile):
            raise UnsupportedValueError(f"{quoted(value)} is not supported by this printer")
        return value

    return check


def referenced_uid(sop_class_uids: Iterable[str]) -> Parser:
    """A Referenced ... Sequence with one item naming an instance of given classes."""
    classes = tuple(sop_class_uids)

    def parse(value: Any) -> str:
        from .uids import is_valid_uid

        if not isinstance(value, DicomSequence) or len(value) != 1:
            raise ValueError("must hold exactly one item")
        item = value[0]
        sop_class = item.get("ReferencedSOPClassUID")
        instance = item.get("ReferencedSOPInstanceUID")
        if sop_class is None or instance is None:
            raise PrintError(
                Status.MISSING_ATTRIBUTE,
                "item lacks Referenced SOP Class UID or Referenced SOP Instance UID",
            )
        if str(sop_class) not in classes:
            raise ValueError(f"references SOP class {sop_class}, expected {' or '.join(classes)}")
        if not is_valid_uid(str(instance)):
            raise ValueError(f"{quoted(instance)} is not a valid UID")
        return str(instance)

    return parse


def referenced_sequence(*references: tuple[str, str]) -> DicomSequence:
    """A Referenced ... Sequence with one item per (SOP class, instance UID)."""
    items = []
    for sop_class, uid in references:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = uid
        items.append(item)
    return DicomSequence(items)


def asked_for(
    tags: Iterable[int], known: Sequence[str], default: Sequence[str] | None = None
) -> list[str]:
    """The keywords of ``known`` an N-GET's attribute list asks for.

    Tags not known are left out, never an error (SCUs ask for attributes
    printers rarely have); an empty list asks for ``default`` (all known).
    """
    wanted = [keyword_for_tag(Tag(t)) for t in tags]
    if not wanted:
        return list(known if default is None else default)
    return [keyword for keyword in wanted if keyword in known]


def to_dataset(obj: Any, keywords: Iterable[str]) -> Dataset:
    """A dataset holding the named attributes of a model object (None skipped)."""
    dataset = Dataset()
    for keyword in keywords:
        value = getattr(obj, keyword)
        if value is None:
            continue
        setattr(dataset, keyword, getattr(value, "text", value))
    return dataset


def assign(obj: Any, values: dict[str, Any]) -> None:
    """Store validated values on a model object."""
    for name, value in values.items():
        setattr(obj, name, value)
