package hubspot

// Limits returns the request budgets the client paces itself to (defaults
// applied), for estimates of how long a run takes.
func (c *Client) Limits() Limits {
	c.pacer.mu.Lock()
	defer c.pacer.mu.Unlock()
	return c.pacer.limits
}
