"""Which script a campaign's calls run: published dialog versions and recorded prompts."""
