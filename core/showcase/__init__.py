"""The designer and collection showcase (issue 8): designers, collections with their pieces
and images, runway shows with their running order, models, collaborations, search, the
public view of published collections and designer analytics.

Every service runs in one unit of work as the acting person: it checks showcase.view or
showcase.manage itself, and row-level security (migrations 0003 and 0009) limits a designer
to their own profile, drafts and shows whatever the service does. See docs/SHOWCASE.md.
"""
