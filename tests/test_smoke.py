from tests.factories import ProductFactory, WarehouseFactory, order_body, stocked


def test_place_order_over_http(seller, api):
    product = ProductFactory(seller=seller, sku="MUG")
    stocked(product, WarehouseFactory(seller=seller), 5)

    response = api.post("/api/v1/orders/", order_body([("MUG", 2)]), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["quantity_allocated"] == 2
