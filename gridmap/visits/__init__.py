"""Door-to-door visits of grid workers (走访): who needs a visit how often, who was visited, what is due.

`rules` holds the care categories and the visit frequency table (the one
place both are written), `book` nothing: the tables live in
`gridmap.stores.visits` like the cases' do; `due` turns households, their
care categories and their last visits into a worker's list for a day;
`tracks`, `gpx` and `patrols` measure a worker's patrols (巡查) in their grid;
`intake` reports a case from the phone page once per idempotency key.
"""
