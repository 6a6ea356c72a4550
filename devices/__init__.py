"""Devices stage: device profiles (Pi 5, Pi 4, Pi Zero 2 W, Pi 3, x86 laptop) and deployment over SSH."""
