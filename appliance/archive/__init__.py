"""After the sitting: minutes from the journal, the sealed archive, its keys and receipts.

Everything here reads the data directory without writing to the journal: the minutes and
the archive are derived from the record, never from the live server's memory, so what
the box ships upstream is exactly what its journal proves.
"""
