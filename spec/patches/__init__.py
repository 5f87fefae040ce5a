"""Built-in patches, by name (see spec.patch for the patch interface)."""

from spec.patches import maps, sched

BUILTIN = {p.name: p for p in sched.PATCHES + maps.PATCHES}
