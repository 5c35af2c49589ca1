"""The category taxonomy: top-level categories and their subcategories, loaded from data."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label: str
    parent: str | None = None


class UnknownCategories(ValueError):
    def __init__(self, codes: Sequence[str]) -> None:
        super().__init__(f"unknown category codes: {', '.join(codes)}")
        self.codes = list(codes)


@dataclass(frozen=True)
class Taxonomy:
    categories: Mapping[str, Category]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "Taxonomy":
        """Build from `{"categories": [{"code", "label", "subcategories": [...]}]}`."""
        categories: dict[str, Category] = {}
        for item in document["categories"]:
            categories[item["code"]] = Category(item["code"], item["label"])
            for sub in item.get("subcategories", []):
                categories[sub["code"]] = Category(sub["code"], sub["label"], item["code"])
        return cls(categories)

    def validate(self, codes: Iterable[str]) -> list[str]:
        """The codes, de-duplicated in order; UnknownCategories if any is not in the taxonomy."""
        unique = list(dict.fromkeys(codes))
        unknown = [code for code in unique if code not in self.categories]
        if unknown:
            raise UnknownCategories(unknown)
        return unique

    def with_parents(self, codes: Iterable[str]) -> list[str]:
        """Codes plus their parents, so filtering by `environmental` finds `fly_tipping`."""
        expanded: dict[str, None] = {}
        for code in codes:
            expanded[code] = None
            parent = self.categories[code].parent if code in self.categories else None
            if parent:
                expanded[parent] = None
        return list(expanded)

    def as_tree(self) -> list[dict[str, Any]]:
        tops = [c for c in self.categories.values() if c.parent is None]
        return [
            {
                "code": top.code,
                "label": top.label,
                "subcategories": [
                    {"code": c.code, "label": c.label}
                    for c in self.categories.values()
                    if c.parent == top.code
                ],
            }
            for top in tops
        ]
