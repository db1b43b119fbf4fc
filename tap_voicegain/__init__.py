"""Singer tap for Voicegain Speech Analytics calls."""
