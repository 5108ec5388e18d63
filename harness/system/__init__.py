"""The whole of cool on one machine (:mod:`.local`), on the sim or on the mini cloud
(:mod:`.cloud`): what ``./scripts/run.sh`` starts."""
