"""Certificate lifecycle: renewal, rotation of issuers and trust anchors, and what breaks when it goes wrong."""
