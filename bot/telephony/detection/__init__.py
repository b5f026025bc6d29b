"""Who or what answered: answering machines and carrier announcements."""
