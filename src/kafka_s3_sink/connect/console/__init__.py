"""The web console under /ui/: static pages (static/) calling the JSON endpoints here."""
