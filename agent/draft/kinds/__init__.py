"""One builder per draft kind; each reads a DraftContext and the phrase table, nothing else."""
