"""Campaigns, their e-mails and social posts, promotional codes and audience segments: the
services marketing uses to manage them (campaigns.manage). Changes are audited by the
database's triggers."""
