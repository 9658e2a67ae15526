"""The party organisation chain (党建引领): organisations, members, 一户十联 links, points and funds.

`vocabulary` spells the kinds and amounts, `register` writes the registers
through their rules, `findings` and `gridmap.measures.party` put the chain on
the map, `points` and `funds` keep the two ledgers, `access` says who may see and
write what, `files` reads and writes the registers' files, `sample` seeds the demo.
"""
