"""Sponsors, tiers and benefits, sponsorships and their assets: the services marketing
uses to manage them (sponsors.manage). Changes are audited by the database's triggers."""
