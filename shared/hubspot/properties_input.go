package hubspot

// propertyInputJSON is the body of a property create (PropertyCreate in
// HubSpot's properties API:
// https://developers.hubspot.com/docs/api-reference/crm-properties-v3/guide).
type propertyInputJSON struct {
	Name           string        `json:"name"`
	Label          string        `json:"label"`
	Type           string        `json:"type"`
	FieldType      string        `json:"fieldType"`
	Description    string        `json:"description,omitempty"`
	GroupName      string        `json:"groupName,omitempty"`
	Options        []optionInput `json:"options,omitempty"`
	HasUniqueValue bool          `json:"hasUniqueValue,omitempty"`
}

// optionInput is one option of a created enumeration property: HubSpot's
// OptionInput requires hidden (and, on the date-based versions,
// displayOrder), so neither is omitted when zero.
type optionInput struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// optionInputs returns opts as create inputs; with no display order given
// the options keep the order they are listed in.
func optionInputs(opts []PropertyOption) []optionInput {
	if len(opts) == 0 {
		return nil
	}
	ordered := false
	for _, o := range opts {
		ordered = ordered || o.DisplayOrder != 0
	}
	out := make([]optionInput, len(opts))
	for i, o := range opts {
		out[i] = optionInput{Label: o.Label, Value: o.Value, DisplayOrder: o.DisplayOrder, Hidden: o.Hidden}
		if !ordered {
			out[i].DisplayOrder = i
		}
	}
	return out
}
