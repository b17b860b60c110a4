"""Network: interfaces and addresses (netifaces), uplink detection. mDNS comes later."""
