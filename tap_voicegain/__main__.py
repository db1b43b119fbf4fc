"""Run the tap as ``python -m tap_voicegain``."""

from tap_voicegain.tap import main

main()
