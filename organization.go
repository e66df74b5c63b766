package logto

import (
	"errors"
	"strings"
)

// OrganizationURNPrefix starts the audience of every organization token:
// urn:logto:organization:<organization ID>.
const OrganizationURNPrefix = "urn:logto:organization:"

// ErrInvalidOrganizationURN: the string is not urn:logto:organization:<id>.
var ErrInvalidOrganizationURN = errors.New("logto: invalid organization URN")

// OrganizationURN returns the audience of organizationID's tokens.
func OrganizationURN(organizationID string) string { return OrganizationURNPrefix + organizationID }

// OrganizationIDFromURN extracts the organization ID from an organization
// token audience.
func OrganizationIDFromURN(urn string) (string, error) {
	id, ok := strings.CutPrefix(urn, OrganizationURNPrefix)
	if !ok || id == "" {
		return "", ErrInvalidOrganizationURN
	}
	return id, nil
}
