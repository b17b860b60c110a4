"""Documents: ingest with PyMuPDF, page images, text."""
