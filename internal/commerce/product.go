package commerce

// Product is a shop's product, the subject of ask-everyone questions (问大家,
// R-QA-1). A product belongs to one shop for good. Products are known from
// product facts, and from the first order fact whose item names one.
type Product struct {
	ID     string `json:"id" yaml:"id"`
	ShopID string `json:"shop_id" yaml:"shop_id"`
	Title  string `json:"title,omitempty" yaml:"title"`
}

func (p *Product) validate() error {
	return firstErr(id("product.id", p.ID), id("product.shop_id", p.ShopID), CheckText("product.title", p.Title, MaxText))
}
