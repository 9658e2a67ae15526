"""Cases (案件) routed by grid: report, dispatch, handle within working-hour deadlines, check, close.

村级及时收集梳理，各职能部门限时办结，第三方了解办理效果 — see `desk` for the entry
point, `lifecycle` for the transitions, `calendar` for working hours,
`categories` for the category catalogue, `statistics` for the figures. Import the
submodules themselves: `gridmap.stores.cases` uses `vocabulary`, so this
package imports nothing on its own.
"""
