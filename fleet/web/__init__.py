"""Server-rendered portals: Biz Support's dashboard and repair queue, the merchant portal, the public
warranty check. Pages use the same services and the same object-level scoping as the API."""
