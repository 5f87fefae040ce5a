"""Runtime profiles: which version's rules the model follows.

* ``go1.19``: asynchronous preemption (Go 1.14 on), classic maps.
* ``go1.27``: asynchronous preemption, Swiss-table maps; goschedImpl keeps a G
  preempted for a stop-the-world in runnext and calls wakep after Gosched.
* ``go1.13``: cooperative preemption only, as before Go 1.14.  Every other rule
  is the go1.19 rule: the model does not reproduce Go 1.13's own scheduler code.

``asyncpreemptoff`` is the GODEBUG switch (runtime/runtime1.go:
debug.asyncpreemptoff): preemptone no longer signals, so only cooperative
preemption remains.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    async_preempt: bool
    gosched_wakep: bool
    stw_preempt_to_runnext: bool
    asyncpreemptoff: bool = False

    @property
    def async_enabled(self) -> bool:
        return self.async_preempt and not self.asyncpreemptoff

    def label(self) -> str:
        return self.name + (" asyncpreemptoff=1" if self.asyncpreemptoff else "")


_BASE = {
    "go1.13": Profile("go1.13", async_preempt=False, gosched_wakep=False, stw_preempt_to_runnext=False),
    "go1.19": Profile("go1.19", async_preempt=True, gosched_wakep=False, stw_preempt_to_runnext=False),
    "go1.27": Profile("go1.27", async_preempt=True, gosched_wakep=True, stw_preempt_to_runnext=True),
}


def get_profile(name: str, asyncpreemptoff: bool = False) -> Profile:
    base = _BASE[name]
    return Profile(base.name, base.async_preempt, base.gosched_wakep,
                   base.stw_preempt_to_runnext, asyncpreemptoff)
