"""The council portal: councils submit returns, read their validation reports and their figures
against their neighbours, region and England, and pull packs; analysts and engineers have their own
views. Server-rendered pages (GOV.UK Design System) and a JSON/CSV API under /api/v1/."""
