package userpilot

import "fmt"

// Clear modes accepted by WithClearValue: how identify says "this property
// has no value any more" (an unlinked record's link keys, a HubSpot value
// that was emptied).
const (
	// ClearNull sends JSON null (the default). Userpilot lists null among
	// the accepted metadata values
	// (https://docs.userpilot.com/api-references/real-time/identify-user)
	// but no page says that it removes the property.
	ClearNull = "null"
	// ClearEmptyString sends "" instead: the property stays, holding the
	// empty string, which reads as "no value" in Userpilot's segments
	// whether or not the service removes a property for null. Choose it
	// when an account shows that null leaves the old value in place.
	ClearEmptyString = "empty_string"
)

// WithClearValue selects how a nil metadata value of identify and bulk
// identify is sent: ClearNull (default; "" means the default) or
// ClearEmptyString. Track keeps null: an event has nothing to clear.
func WithClearValue(mode string) Option {
	return func(c *Client) error {
		switch mode {
		case "", ClearNull:
			c.clear = nil
		case ClearEmptyString:
			c.clear = ""
		default:
			return fmt.Errorf("userpilot: clear value %q must be %q or %q", mode, ClearNull, ClearEmptyString)
		}
		return nil
	}
}
