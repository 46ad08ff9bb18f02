"""Chat with the agent about one incident: answers with citations, notes for the drafts."""
